"""Seeded synthetic data for the bundled "Acme Support" contact-center example.

Run ``python generate.py``: every file in ``data/`` next to this script is
(re)written. All randomness comes from one ``random.Random(20260817)`` and no
wall-clock time is read, so re-running produces byte-identical files.

Scenario
--------
"Acme Support" runs 60 agents (A001..A060) in four teams of 15, on two sites,
project time zone Europe/Berlin:

* Berlin, vendor "in-house": "Berlin Billing" (lead Hanna Vogel, A001..A015)
  and "Berlin Tech" (lead Jonas Keller, A016..A030).
* Lisbon, vendor "Northwind BPO" (an outsourcing partner): "Lisbon Billing"
  (lead Rita Sousa, A031..A045) and "Lisbon Tech" (lead Tiago Lopes, A046..A060).
* Four QA specialists Q01..Q04 (team "Quality", Berlin, in-house) score
  contacts; they are in the roster with role ``quality_specialist``.

The data covers 13 ISO weeks, Monday 2026-08-17 to Sunday 2026-11-15
(2026-W34..W46), across the end of summer time on Sunday 2026-10-25. Agents
work Monday-Friday 08:00-20:00 local time; on Saturdays about 30 % of the
agents work (so Saturday volume is ~30 % of a weekday); on Sundays two on-call
agents (one per site) take a few contacts between 10:00 and 16:00. The
on-call Sundays are not part of the workforce schedule export.

The calls are a sample, ~5.6 answered contacts per agent-day, which keeps the
example small (a few MB) and its tests fast. Rather than multiplying the
volume up to full working days, the workforce figures are scaled down to the
sample: each agent-day in schedule.csv holds the handle time of that agent's
contacts that day (talk + hold + wrap from the ACD export), available time at
the site's occupancy (Berlin 78-84 %, Lisbon 86-90 %), 2-5 % not-ready time on
top, paid time at 85-90 % utilization (shrinkage 10-15 %) and scheduled time
at 7.5 of every 8 paid hours, in whole minutes; an agent-day without contacts
is staffed for an average day. An agent-day is therefore ~40 minutes logged in, and the ratios
add up: AHT ~6 min at ~84 % occupancy gives ~8 contacts per logged-in hour
(3600 / 360 x 0.84 x 0.965), as in a real operation.

Deliberate signals (what the example's dashboards should surface)
-----------------------------------------------------------------
1. AHT drift: team "Berlin Tech" starts at ~360 s average handle time
   (talk + hold + wrap) and gets ~10 s slower every week (~480 s by W46); the
   other teams stay flat at ~330-370 s.
2. Survey gap: agent A047 (Lisbon Tech) gets at most 2 CSAT answers per week,
   while everyone else has ~20 % of answered contacts surveyed.
3. BPO service level: Northwind BPO (Lisbon) has longer queue waits, so only
   ~68-74 % of its answered contacts are answered within 20 s (Berlin
   ~85-90 %), and it abandons ~9 % of contacts (Berlin ~4 %). Queues are
   per site ("Billing DE", "Tech PT", ...) as routing is, so abandoned contacts,
   which have no agent, can still be attributed to a site and vendor.
4. QA outlier: agent A012 (Berlin Billing) scores ~75 % on quality
   evaluations against ~88 % for peers, and has more auto-fails (~15 % vs 3 %).
   Evaluator Q03 is a lenient scorer (~8 points above the others), which is
   visible in the weekly calibration sessions.
5. System slowdown: the "crm" component's response time has p95 ~1200-1700 ms
   except in ISO week 2026-W41 (2026-10-05..11), where p95 is ~2600 ms; two
   crm incidents are logged that week. annotations.csv (beside tpmkit.yaml)
   notes it as an outage with `exclude: true`, and Germany's holiday on
   Saturday 2026-10-03 for site Berlin.
6. People: five Lisbon Tech agents (A052..A056) are a new-hire cohort hired on
   2026-08-17, the first day of the data: ~30 % slower in their first week,
   reaching their own pace over 8 weeks; A056 stays 15 % slower (not yet
   proficient). Four agents leave on Friday 2026-11-13 (W46): A033 and A038
   (Lisbon Billing), A059 (a transfer) and A053, an early leaver 88 days after
   hire. The coaching log (data/coaching.csv) has AHT sessions in W38: Hanna
   Vogel's five Berlin Billing agents handle ~50 s faster from the day after
   (their uncoached teammates do not change); Jonas Keller's five Berlin Tech
   agents keep drifting with their team (no effect). These change only talk
   times (the same draws, scaled), so every other figure stays as it was.

Files written to data/
----------------------
* acd_calls.csv     ACD export with vendor headers, UTF-8 BOM and CRLF line
                    ends (like a Windows export), local naive timestamps, talk
                    and hold as "H:MM:SS", and the gaps real exports have
                    (unknown abandon waits, missing hold, no disposition).
* tickets.csv       tickets; ISO 8601 timestamps with the Berlin UTC offset.
* qa.csv            quality evaluations incl. one 4-evaluator calibration
                    session per week (calibration_id CAL-2026-Wxx).
* schedule.csv      one row per agent per scheduled day (WFM figures sized to
                    that agent-day's sampled contacts, see above).
* costs.csv         daily cost per site in EUR.
* roster.csv        agents and QA specialists, with hire and leave dates.
* coaching.csv      coaching sessions (session_id, agent, time, coach, metric,
                    topic); one names no metric.
* ../annotations.csv  two notes beside tpmkit.yaml: the CRM outage, a holiday.
* system_events.parquet  response-time samples, one per component per 15 min.
* incidents.csv     technical incidents; two are still open.
"""

from __future__ import annotations

import csv
import math
import random
from collections import deque
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl

SEED = 20260817
TZ = ZoneInfo("Europe/Berlin")
FIRST_DAY = date(2026, 8, 17)
N_DAYS = 91  # 13 ISO weeks, Monday 2026-08-17 .. Sunday 2026-11-15
DATA_DIR = Path(__file__).resolve().parent / "data"

# --- workload --------------------------------------------------------------
CONTACTS_PER_AGENT_DAY = 5.6  # answered contacts per agent per worked day
SUNDAY_CONTACTS_PER_AGENT = 3.0
SATURDAY_SHARE_OF_AGENTS = 0.30  # gives Saturdays ~30 % of weekday volume
HOUR_WEIGHTS = (6, 9, 11, 11, 9, 8, 9, 10, 9, 7, 6, 5)  # 08:00 .. 19:00 starts
CHANNELS = ("voice", "chat", "email")
CHANNEL_WEIGHTS = (75, 20, 5)
# chats run longer (concurrent sessions), emails shorter; the mix averages ~1.0
CHANNEL_TALK_FACTOR = {"voice": 1.0, "chat": 1.1, "email": 0.6}

# --- customers -------------------------------------------------------------
N_CUSTOMERS = 9000
REPEAT_WINDOW = timedelta(days=7)
REPEAT_SHARE = 0.12  # contacts that are a repeat of a contact in the last 7 days
UNKNOWN_CUSTOMER_SHARE = 0.02

# --- signals ---------------------------------------------------------------
DRIFT_TEAM = "Berlin Tech"
FEW_SURVEYS_AGENT = "A047"
FEW_SURVEYS_WEEKLY_CAP = 2
LOW_QA_AGENT = "A012"
LENIENT_EVALUATOR = "Q03"
LENIENT_BONUS = 0.08  # share of max score
DEGRADED_WEEK = "2026-W41"
SURVEY_SHARE = 0.20

# --- people (issue 20): hires, leavers, coaching ---------------------------------
# A new-hire cohort starts on the first day of the data (so every one of their contacts
# is after their hire date): slower at first, ~30 % more talk time in their first week,
# fading to their own pace over 8 weeks; A056 keeps a 15 % handicap (not yet proficient).
NEW_HIRES = ("A052", "A053", "A054", "A055", "A056")
NEW_HIRE_DATE = FIRST_DAY
RAMP, RAMP_WEEKS = 0.30, 8
SLOW_LEARNER, SLOW_LEARNER_HANDICAP = "A056", 0.15
# Leavers: last working day Friday 2026-11-13, chosen among agents who work neither that
# Saturday nor that Sunday, so no contact of theirs is after their leave date.
LEAVE_DATE = date(2026, 11, 13)
LEAVERS = (  # (candidates in order, leave reason): the first candidate off that weekend
    (("A033", "A034", "A035", "A036", "A037"), "voluntary"),
    (("A038", "A039", "A040", "A041", "A042"), "voluntary"),
    (("A058", "A059", "A060", "A057"), "transfer"),
    (("A053", "A054", "A055"), "voluntary"),  # an early leaver: 88 days after hire
)
# Coaching on AHT in 2026-W38: Hanna Vogel's sessions work (her agents' talk time drops
# by 18 % from the day after the session, ~50 s of AHT, while their uncoached teammates
# stay flat); Jonas Keller's do not (his agents keep drifting with their team).
COACHING_WEEK_MONDAY = date(2026, 9, 14)
COACHED = (
    ("Hanna Vogel", ("A002", "A004", "A006", "A008", "A010"), "aht", "call control"),
    ("Jonas Keller", ("A021", "A022", "A023", "A024", "A025"), "aht", "call control"),
)
WORKING_COACH, COACHING_GAIN = "Hanna Vogel", 0.18


@dataclass(frozen=True)
class Team:
    name: str
    lead: str
    site: str
    queue: str
    talk_mean: float  # seconds, week 1
    talk_drift_per_week: float  # seconds


@dataclass(frozen=True)
class Site:
    vendor: str
    answer_wait_mean: float  # seconds, exponential; sets the 20 s service level
    abandon_rate: float
    abandon_wait_mean: float  # seconds before a caller hangs up
    csat_weights: tuple  # weights of CSAT 1..5
    adherence: tuple  # (low, high) share of scheduled time adherent
    occupancy: tuple  # (low, high)
    daily_cost: dict  # mean EUR by day kind


# hold (~25 s) and wrap (~45 s) are added to talk, so AHT ~ talk_mean + 70 s
TEAMS = (
    Team("Berlin Billing", "Hanna Vogel", "Berlin", "Billing", 262, 0),
    Team("Berlin Tech", "Jonas Keller", "Berlin", "Tech", 290, 10),
    Team("Lisbon Billing", "Rita Sousa", "Lisbon", "Billing", 275, 0),
    Team("Lisbon Tech", "Tiago Lopes", "Lisbon", "Tech", 285, 0),
)

# an exponential wait with mean m is <= 20 s (int-truncated) with p = 1 - exp(-21/m)
SITES = {
    "Berlin": Site(
        vendor="in-house",
        answer_wait_mean=10.3,  # ~87 % within 20 s
        abandon_rate=0.04,
        abandon_wait_mean=45,
        csat_weights=(3, 4, 9, 30, 54),
        adherence=(0.88, 0.95),
        occupancy=(0.78, 0.84),
        daily_cost={"weekday": 6000, "saturday": 2100, "sunday": 500},
    ),
    "Lisbon": Site(
        vendor="Northwind BPO",
        answer_wait_mean=17.0,  # ~71 % within 20 s
        abandon_rate=0.09,
        abandon_wait_mean=70,
        csat_weights=(5, 7, 13, 33, 42),
        adherence=(0.82, 0.88),
        occupancy=(0.86, 0.90),
        daily_cost={"weekday": 4200, "saturday": 1500, "sunday": 350},
    ),
}

# realistic names; a comma and non-ASCII letters deliberately exercise CSV quoting
AGENT_NAMES = (
    # Berlin Billing A001..A015
    "Anna Schmidt", "Lukas Becker", "Sophie Wagner", "Maximilian Hoffmann",
    "Lea Schäfer", "Felix Koch", "Marie Richter", "Elias Neumann", "Emma Wolf",
    "Mia Schwarz", "Laura Zimmermann", "Tobias Krüger", "Nina Hartmann",
    "Smith, Jr., Paul", "Jana Albrecht",
    # Berlin Tech A016..A030
    "Leon Braun", "Hannah Lange", "David Schmitz", "Julia Krause", "Niklas Meier",
    "Lena Lehmann", "Jan Schulz", "Sarah Köhler", "Tim Herrmann", "Zoë O'Neill",
    "Moritz König", "Katharina Walter", "Florian Mayer", "Johanna Huber",
    "Sebastian Fuchs",
    # Lisbon Billing A031..A045
    "Ana Silva", "João Santos", "Mariana Ferreira", "Pedro Pereira",
    "Beatriz Oliveira", "Miguel Costa", "Inês Rodrigues", "Rui Martins",
    "Catarina Jesus", "Diogo Gonçalves", "Sofia Gomes", "André Marques",
    "Leonor Ribeiro", "Tomás Carvalho", "Joana Almeida",
    # Lisbon Tech A046..A060
    "Bruno Pinto", "Carolina Teixeira", "Ricardo Moreira", "Marta Correia",
    "Gonçalo Mendes", "Rafaela Nunes", "Nuno Soares", "Daniela Vieira",
    "Francisco Monteiro", "Patrícia Cardoso", "Hugo Rocha", "Vanessa Neves",
    "Luís Coelho", "Cláudia Cunha", "Filipe Reis",
)
EVALUATORS = (
    ("Q01", "Claudia Brandt"),
    ("Q02", "Markus Seidel"),
    ("Q03", "Yasemin Özdemir"),
    ("Q04", "Ralf Peters"),
)
QUALITY_LEAD = "Sabine Roth"


@dataclass
class Agent:
    agent_id: str
    name: str
    team: str
    team_lead: str
    site: str
    vendor: str
    role: str
    hire_date: date
    queue: str = ""
    talk_factor: float = 1.0  # personal speed, fixed for the whole period
    leave_date: date | None = None  # last working day
    leave_reason: str = ""
    coached_on: date | None = None  # the day of a coaching session that works


@dataclass
class Contact:
    start: datetime  # local wall clock, naive
    queue: str
    site: str
    agent: Agent | None  # None: abandoned before an agent answered
    contact_id: str = ""
    customer_id: str = ""


# --- time helpers ------------------------------------------------------------


def all_days():
    return [FIRST_DAY + timedelta(days=i) for i in range(N_DAYS)]


def week_index(day):
    return (day - FIRST_DAY).days // 7


def iso_week_label(day):
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def day_kind(day):
    return {5: "saturday", 6: "sunday"}.get(day.weekday(), "weekday")


def local_to_utc(naive_local):
    # fold=0: an ambiguous wall-clock time resolves to the first (summer) instant
    return naive_local.replace(tzinfo=TZ).astimezone(timezone.utc)


def utc_to_local_naive(instant):
    return instant.astimezone(TZ).replace(tzinfo=None)


def add_real_hours(naive_local, hours):
    """Add elapsed hours across DST correctly, returning local wall clock."""
    instant = local_to_utc(naive_local) + timedelta(seconds=round(hours * 3600))
    return utc_to_local_naive(instant)


START_UTC = local_to_utc(datetime.combine(FIRST_DAY, time()))
EXTRACT_UTC = local_to_utc(datetime.combine(FIRST_DAY + timedelta(days=N_DAYS), time()))
EXTRACT_LOCAL = utc_to_local_naive(EXTRACT_UTC)


# --- formatting helpers ------------------------------------------------------


def fmt_local(naive_local):
    return naive_local.strftime("%Y-%m-%d %H:%M:%S")


def fmt_offset(instant):
    return "" if instant is None else instant.astimezone(TZ).isoformat(timespec="seconds")


def fmt_hms(seconds):
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def fmt_yn(flag):
    return "Y" if flag else "N"


def fmt_bool(flag):
    return "true" if flag else "false"


def fmt_opt(value):
    return "" if value is None else str(value)


# --- random helpers ------------------------------------------------------------


def poisson(rng, mean):
    # Knuth's method; fine for the small means used here
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def lognormal_with_mean(rng, mean, sigma):
    return rng.lognormvariate(math.log(mean) - sigma * sigma / 2, sigma)


def pick(rng, options, weights):
    return rng.choices(options, weights=weights)[0]


def random_date(rng, first, last):
    return first + timedelta(days=rng.randrange((last - first).days + 1))


# --- roster --------------------------------------------------------------------


def build_roster(rng):
    agents = []
    for index, name in enumerate(AGENT_NAMES):
        team = TEAMS[index // 15]
        site = SITES[team.site]
        agents.append(
            Agent(
                agent_id=f"A{index + 1:03d}",
                name=name,
                team=team.name,
                team_lead=team.lead,
                site=team.site,
                vendor=site.vendor,
                role="agent",
                hire_date=random_date(rng, date(2019, 1, 1), date(2026, 6, 30)),
                queue=team.queue,
                talk_factor=rng.gauss(1.0, 0.05),
            )
        )
    specialists = [
        Agent(
            agent_id=qid,
            name=name,
            team="Quality",
            team_lead=QUALITY_LEAD,
            site="Berlin",
            vendor="in-house",
            role="quality_specialist",
            hire_date=random_date(rng, date(2019, 1, 1), date(2026, 6, 30)),
        )
        for qid, name in EVALUATORS
    ]
    return agents, specialists


ROSTER_COLUMNS = (
    "agent_id", "name", "team", "team_lead", "site", "vendor", "role", "hire_date",
    "leave_date", "leave_reason",
)


def roster_rows(people):
    for person in people:
        yield {
            "agent_id": person.agent_id,
            "name": person.name,
            "team": person.team,
            "team_lead": person.team_lead,
            "site": person.site,
            "vendor": person.vendor,
            "role": person.role,
            "hire_date": person.hire_date.isoformat(),
            "leave_date": person.leave_date.isoformat() if person.leave_date else "",
            "leave_reason": person.leave_reason,
        }


# --- who works when --------------------------------------------------------------


def plan_rotas(rng, agents):
    """Agents working each day: all on weekdays, a ~30 % rota on Saturdays,
    one on-call agent per site on Sundays."""
    by_site = {name: [a for a in agents if a.site == name] for name in SITES}
    n_saturday = round(len(agents) * SATURDAY_SHARE_OF_AGENTS)
    rotas = {}
    for day in all_days():
        kind = day_kind(day)
        if kind == "weekday":
            working = list(agents)
        elif kind == "saturday":
            working = rng.sample(agents, n_saturday)
        else:
            working = [rng.choice(by_site[name]) for name in SITES]
        rotas[day] = sorted(working, key=lambda a: a.agent_id)
    return rotas


# --- calls -----------------------------------------------------------------------


def draw_start(rng, day):
    if day_kind(day) == "sunday":
        hour = rng.randrange(10, 16)  # also keeps clear of the 2026-10-25 DST hour
    else:
        hour = pick(rng, range(8, 20), HOUR_WEIGHTS)
    return datetime.combine(day, time(hour)) + timedelta(seconds=rng.randrange(3600))


def contact_skeletons(rng, rotas):
    """Answered contacts per worked agent-day, plus abandons in the same queue
    at the site's abandon rate; sorted by start time."""
    contacts = []
    for day, working in rotas.items():
        mean = SUNDAY_CONTACTS_PER_AGENT if day_kind(day) == "sunday" else CONTACTS_PER_AGENT_DAY
        for agent in working:
            rate = SITES[agent.site].abandon_rate
            abandon_odds = rate / (1 - rate)  # abandons / answered
            for _ in range(poisson(rng, mean)):
                contacts.append(Contact(draw_start(rng, day), agent.queue, agent.site, agent))
                if rng.random() < abandon_odds:
                    contacts.append(Contact(draw_start(rng, day), agent.queue, agent.site, None))
    contacts.sort(key=lambda c: c.start)  # stable, so ties keep generation order
    for number, contact in enumerate(contacts, start=1):
        contact.contact_id = f"C{number:07d}"
    return contacts


def fresh_customer(rng, last_seen, now):
    """A customer with no contact in the last 7 days, so repeats stay controlled."""
    for _ in range(50):
        customer = f"K{rng.randrange(1, N_CUSTOMERS + 1):05d}"
        seen = last_seen.get(customer)
        if seen is None or now - seen > REPEAT_WINDOW:
            return customer
    return customer


def assign_customers(rng, contacts):
    last_seen = {}
    recent = deque()  # (start, customer) of the last 7 days, oldest first
    for contact in contacts:
        while recent and contact.start - recent[0][0] > REPEAT_WINDOW:
            recent.popleft()
        if rng.random() < UNKNOWN_CUSTOMER_SHARE:
            contact.customer_id = ""
            continue
        if recent and rng.random() < REPEAT_SHARE:
            customer = recent[rng.randrange(len(recent))][1]
        else:
            customer = fresh_customer(rng, last_seen, contact.start)
        last_seen[customer] = contact.start
        recent.append((contact.start, customer))
        contact.customer_id = customer


def talk_seconds(rng, agent, channel, day):
    team = next(t for t in TEAMS if t.name == agent.team)
    mean = team.talk_mean + team.talk_drift_per_week * week_index(day)
    mean *= agent.talk_factor * CHANNEL_TALK_FACTOR[channel] * people_factor(agent, day)
    return max(15, round(lognormal_with_mean(rng, mean, 0.5)))


def people_factor(agent, day):
    """A new hire's ramp and a working coaching session scale the mean talk time; the
    draws stay the same, so every other figure of the example is unchanged."""
    factor = 1.0
    if agent.agent_id in NEW_HIRES:
        weeks = (day - agent.hire_date).days / 7
        factor += RAMP * max(0.0, 1 - weeks / RAMP_WEEKS)
        if agent.agent_id == SLOW_LEARNER:
            factor += SLOW_LEARNER_HANDICAP
    if agent.coached_on is not None and day > agent.coached_on:
        factor *= 1 - COACHING_GAIN
    return factor


def hold_seconds(rng):
    """Zero for most contacts, ~100 s for a quarter; None = component missing."""
    if rng.random() < 0.05:
        return None
    if rng.random() < 0.25:
        return min(900, 10 + int(rng.expovariate(1 / 90)))
    return 0


def survey_answers(rng, contact, survey_counts):
    """(csat, nps, dsat_root_cause) or Nones when not surveyed."""
    agent = contact.agent
    if agent.agent_id == FEW_SURVEYS_AGENT:
        key = week_index(contact.start.date())
        surveyed = rng.random() < 0.06 and survey_counts.get(key, 0) < FEW_SURVEYS_WEEKLY_CAP
        if surveyed:
            survey_counts[key] = survey_counts.get(key, 0) + 1
    else:
        surveyed = rng.random() < SURVEY_SHARE
    if not surveyed:
        return None, None, None
    csat = pick(rng, (1, 2, 3, 4, 5), SITES[agent.site].csat_weights)
    nps = None
    if rng.random() < 0.60:  # NPS question is optional in the survey
        nps = min(10, max(0, round(2 * csat + rng.gauss(-0.5, 1.2))))
    dsat = None
    if csat <= 2 and rng.random() >= 0.20:  # 20 % of detractors not coded
        dsat = pick(rng, ("training", "process", "product", "knowledge_base", "other"),
                    (25, 25, 25, 15, 10))
    return csat, nps, dsat


def answered_row(rng, contact, survey_counts):
    """The export row of an answered contact and its handle time in seconds (talk + hold +
    wrap, a missing hold counted as 0, as the AHT metric counts it)."""
    channel = pick(rng, CHANNELS, CHANNEL_WEIGHTS)
    hold = hold_seconds(rng)
    resolved = None if rng.random() < 0.10 else rng.random() < 0.75
    csat, nps, dsat = survey_answers(rng, contact, survey_counts)
    # drawn in the order of the export's columns, which the reproducibility contract fixes
    wait = int(rng.expovariate(1 / SITES[contact.site].answer_wait_mean))
    talk = talk_seconds(rng, contact.agent, channel, contact.start.date())
    wrap = 20 + min(100, int(rng.expovariate(1 / 25)))
    row = {
        "Channel": channel,
        "Agent ID": contact.agent.agent_id,
        "Answered": "Y",
        "Queue Time": str(wait),
        "Talk Time": fmt_hms(talk),
        "Hold Time": "" if hold is None else fmt_hms(hold),
        "Wrap Time": str(wrap),
        "Transferred": fmt_yn(rng.random() < 0.08),
        "Escalated": fmt_yn(rng.random() < 0.04),
        "Resolved": "" if resolved is None else fmt_yn(resolved),
        "CSAT": fmt_opt(csat),
        "NPS": fmt_opt(nps),
        "DSAT Root Cause": fmt_opt(dsat),
    }
    return row, talk + (hold or 0) + wrap


def abandoned_row(rng, contact):
    if rng.random() < 0.25:  # short abandons: misdials, instant hang-ups
        wait = rng.randrange(0, 5)
    else:
        wait = 5 + int(rng.expovariate(1 / SITES[contact.site].abandon_wait_mean))
    unknown_wait = rng.random() < 0.40  # many ACDs do not log the abandon wait
    row = dict.fromkeys(ACD_COLUMNS, "")  # no agent, handling or survey fields
    row["Channel"] = pick(rng, ("voice", "chat"), (80, 20))  # emails cannot abandon
    row["Answered"] = "N"
    row["Queue Time"] = "" if unknown_wait else str(wait)
    return row


ACD_COLUMNS = (
    "Contact ID", "Start Time", "Channel", "Queue", "Agent ID", "Customer ID",
    "Answered", "Queue Time", "Talk Time", "Hold Time", "Wrap Time",
    "Transferred", "Escalated", "Resolved", "CSAT", "NPS", "DSAT Root Cause",
)


# queues are routed per site, so a contact's site is known even when nobody answered
QUEUE_SUFFIX = {"Berlin": "DE", "Lisbon": "PT"}


def call_rows(rng, contacts, handled):
    """Export rows; adds each answered contact's handle seconds to
    ``handled[(agent_id, day)]``, the workload the schedule is sized to."""
    survey_counts = {}  # A047's surveys per week
    for contact in contacts:
        if contact.agent is None:
            row = abandoned_row(rng, contact)
        else:
            row, handle = answered_row(rng, contact, survey_counts)
            key = (contact.agent.agent_id, contact.start.date())
            handled[key] = handled.get(key, 0) + handle
        row.update({
            "Contact ID": contact.contact_id,
            "Start Time": fmt_local(contact.start),
            "Queue": f"{contact.queue} {QUEUE_SUFFIX[contact.site]}",
            "Customer ID": contact.customer_id,
        })
        yield row


QUEUE_COLUMNS = ("queue", "team", "site", "vendor", "line_of_business")
LINE_OF_BUSINESS = {"Billing": "billing", "Tech": "technical support"}


def queue_rows():
    """Who owns each queue: one team per queue, so an abandoned contact (no agent) is
    attributed to the team, site and vendor of its queue."""
    for team in TEAMS:
        yield {
            "queue": f"{team.queue} {QUEUE_SUFFIX[team.site]}",
            "team": team.name,
            "site": team.site,
            "vendor": SITES[team.site].vendor,
            "line_of_business": LINE_OF_BUSINESS[team.queue],
        }


# --- tickets ---------------------------------------------------------------------

TICKETS_PER_DAY = {"weekday": 68, "saturday": 26, "sunday": 14}
TICKET_HOUR_WEIGHTS = (3, 6, 9, 10, 10, 9, 8, 9, 9, 8, 6, 5, 4, 3, 2)  # 07:00 .. 21:00
SLA_HOURS = {"low": 72, "normal": 48, "high": 24, "urgent": 8}
ESCALATION_RATE = {"low": 0.02, "normal": 0.05, "high": 0.10, "urgent": 0.20}
TICKET_CSAT_WEIGHTS = (6, 6, 12, 32, 44)


def ticket_created(rng, day):
    # 07:00-22:00 only, so a creation time is never the ambiguous DST hour
    hour = pick(rng, range(7, 22), TICKET_HOUR_WEIGHTS)
    local = datetime.combine(day, time(hour)) + timedelta(seconds=rng.randrange(3600))
    return local_to_utc(local)


def stays_open(rng, created):
    # a backlog of unresolved tickets, mostly among the recent ones
    recent = EXTRACT_UTC - created < timedelta(days=14)
    return rng.random() < (0.25 if recent else 0.01)


def make_ticket(rng, created, agents):
    priority = pick(rng, ("low", "normal", "high", "urgent"), (20, 55, 20, 5))
    # first response: lognormal, median 3 h, long tail past 24 h
    first_hours = rng.lognormvariate(math.log(3), 1.2)
    # resolution follows the first response; mean ~30 h after creation overall
    resolve_hours = first_hours + rng.lognormvariate(math.log(14.6), 1.0)
    first = created + timedelta(seconds=round(first_hours * 3600))
    resolved = created + timedelta(seconds=round(resolve_hours * 3600))
    if resolved > EXTRACT_UTC or stays_open(rng, created):
        resolved = None
    if first > EXTRACT_UTC or rng.random() < 0.03:  # 3 %: response not logged
        first = None
    csat = None
    if resolved is not None and rng.random() < 0.30:
        csat = pick(rng, (1, 2, 3, 4, 5), TICKET_CSAT_WEIGHTS)
    return {
        "created": created,
        "first_response_at": fmt_offset(first),
        "resolved_at": fmt_offset(resolved),
        "agent_id": rng.choice(agents).agent_id,
        "priority": priority,
        "channel": pick(rng, ("email", "web", "chat"), (50, 35, 15)),
        "customer_id": f"K{rng.randrange(1, N_CUSTOMERS + 1):05d}",
        "reopens": str(pick(rng, (0, 1, 2, 3), (92, 6, 1.5, 0.5))),
        "escalated": fmt_bool(rng.random() < ESCALATION_RATE[priority]),
        "due_at": fmt_offset(created + timedelta(hours=SLA_HOURS[priority])),
        "csat": fmt_opt(csat),
    }


TICKET_COLUMNS = (
    "ticket_id", "created_at", "first_response_at", "resolved_at", "agent_id",
    "priority", "channel", "customer_id", "reopens", "escalated", "due_at", "csat",
)


def ticket_rows(rng, agents):
    tickets = []
    for day in all_days():
        for _ in range(poisson(rng, TICKETS_PER_DAY[day_kind(day)])):
            tickets.append(make_ticket(rng, ticket_created(rng, day), agents))
    tickets.sort(key=lambda t: t["created"])
    for number, ticket in enumerate(tickets, start=1):
        ticket["ticket_id"] = f"T{number:06d}"
        ticket["created_at"] = fmt_offset(ticket.pop("created"))
    return tickets


# --- quality evaluations -----------------------------------------------------------

ERROR_CATEGORIES = ("none", "soft_skills", "process", "product", "compliance")
ERROR_WEIGHTS = (40, 22, 15, 15, 8)
ROOT_CAUSES = ("training", "process", "product", "knowledge_base", "other")
ROOT_CAUSE_WEIGHTS = (30, 25, 20, 15, 10)


def evaluation_delay_hours(rng, interaction_at):
    """2-72 h after the contact, ~90 % within 48 h, never after the extract."""
    hours = rng.uniform(2, 48) if rng.random() < 0.90 else rng.uniform(48, 72)
    available = (EXTRACT_UTC - local_to_utc(interaction_at)).total_seconds() / 3600 - 0.1
    return hours if hours <= available else rng.uniform(2, available)


def qa_share(rng, agent_id, evaluator_id, base=None):
    """Score as a share of the form's maximum."""
    if base is None:
        base = rng.gauss(0.71 if agent_id == LOW_QA_AGENT else 0.86, 0.05)
    share = base + (LENIENT_BONUS if evaluator_id == LENIENT_EVALUATOR else 0.0)
    return min(1.0, max(0.3, share))


def evaluation(rng, contact, evaluator_id, evaluated_at, *, max_score, share, calibration_id=""):
    agent_id = contact.agent.agent_id
    auto_fail = rng.random() < (0.15 if agent_id == LOW_QA_AGENT else 0.03)
    # auto-fails are compliance breaches; otherwise the category is drawn
    category = "compliance" if auto_fail else pick(rng, ERROR_CATEGORIES, ERROR_WEIGHTS)
    root = "" if category == "none" else pick(rng, ROOT_CAUSES, ROOT_CAUSE_WEIGHTS)
    return {
        "agent_id": agent_id,
        "evaluated_at": evaluated_at,
        "score": str(round(share * max_score)),
        "max_score": str(max_score),
        "contact_id": contact.contact_id,
        "interaction_at": fmt_local(contact.start),
        "evaluator_id": evaluator_id,
        "auto_fail": fmt_bool(auto_fail),
        "calibration_id": calibration_id,
        "error_category": category,
        "root_cause": root,
    }


def regular_evaluations(rng, agent_contacts):
    agent_id = agent_contacts[0].agent.agent_id
    count = pick(rng, (1, 2, 3), (15, 70, 15))
    for contact in rng.sample(agent_contacts, min(count, len(agent_contacts))):
        evaluator = rng.choice(EVALUATORS)[0]
        # ~20 % are scored on the short 20-point form
        max_score = 20 if rng.random() < 0.20 else 100
        evaluated_at = add_real_hours(contact.start, evaluation_delay_hours(rng, contact.start))
        yield evaluation(rng, contact, evaluator, evaluated_at, max_score=max_score,
                         share=qa_share(rng, agent_id, evaluator))


def calibration_session(rng, week_contacts, week_start):
    """All four evaluators score one early-week contact in a common session."""
    early = [c for c in week_contacts if c.start.date() < week_start + timedelta(days=3)]
    contact = rng.choice(early)
    session_at = add_real_hours(contact.start, rng.uniform(24, 46))
    true_share = rng.gauss(0.86, 0.04)
    label = f"CAL-{iso_week_label(week_start)}"
    for evaluator, _ in EVALUATORS:
        evaluated_at = session_at + timedelta(seconds=rng.randrange(1800))
        share = qa_share(rng, contact.agent.agent_id, evaluator, true_share + rng.gauss(0, 0.02))
        yield evaluation(rng, contact, evaluator, evaluated_at, max_score=100,
                         share=share, calibration_id=label)


QA_COLUMNS = (
    "evaluation_id", "agent_id", "evaluated_at", "score", "max_score", "contact_id",
    "interaction_at", "evaluator_id", "auto_fail", "calibration_id", "error_category",
    "root_cause",
)


def qa_rows(rng, agents, contacts):
    by_agent_week = {}
    for contact in contacts:
        if contact.agent is not None:
            key = (contact.agent.agent_id, week_index(contact.start.date()))
            by_agent_week.setdefault(key, []).append(contact)
    rows = []
    for week in range(N_DAYS // 7):
        week_contacts = []
        for agent in agents:
            agent_contacts = by_agent_week.get((agent.agent_id, week), [])
            week_contacts.extend(agent_contacts)
            if agent_contacts:
                rows.extend(regular_evaluations(rng, agent_contacts))
        week_contacts.sort(key=lambda c: c.contact_id)
        week_start = FIRST_DAY + timedelta(weeks=week)
        rows.extend(calibration_session(rng, week_contacts, week_start))
    rows.sort(key=lambda r: (r["evaluated_at"], r["contact_id"], r["evaluator_id"]))
    for number, row in enumerate(rows, start=1):
        row["evaluation_id"] = f"E{number:05d}"
        row["evaluated_at"] = fmt_local(row["evaluated_at"])
    return rows


# --- schedule and costs ----------------------------------------------------------------

# The calls are a sample (~5-6 answered contacts per agent-day), so the WFM time is sized
# to that sample, not to a full 8-hour day: each agent-day is logged in for as long as its
# contacts' handle time needs at the site's occupancy, plus a little not-ready time. The
# ratios then add up: contacts per logged-in hour ~ 3600 / AHT x occupancy x (1 - aux).
AUX_SHARE = (0.02, 0.05)  # logged in but not ready: short breaks, coaching, meetings
UTILIZATION = (0.85, 0.90)  # logged-in share of paid time (shrinkage 10-15 %)
SCHEDULED_SHARE_OF_PAID = 27000 / 28800  # 7.5 h planned of 8 h paid
# an agent-day without a contact is still staffed for the mean day's workload
IDLE_DAY_HANDLE_SECONDS = round(CONTACTS_PER_AGENT_DAY * 360)
SCHEDULE_COLUMNS = (
    "agent_id", "date", "scheduled_seconds", "adherent_seconds", "logged_in_seconds",
    "handle_seconds", "available_seconds", "paid_seconds",
)


def whole_minutes(seconds):
    """WFM tools plan in minutes."""
    return 60 * max(1, round(seconds / 60))


def schedule_row(rng, agent, day, handle):
    """One agent-day sized to ``handle``, the ACD handle seconds of its contacts."""
    site = SITES[agent.site]
    occupancy = rng.uniform(*site.occupancy)
    aux_share = rng.uniform(*AUX_SHARE)
    utilization = rng.uniform(*UTILIZATION)
    adherence = rng.uniform(*site.adherence)
    productive = round((handle or IDLE_DAY_HANDLE_SECONDS) / occupancy)  # handle + available
    logged_in = round(productive / (1 - aux_share))
    paid = whole_minutes(logged_in / utilization)
    scheduled = whole_minutes(paid * SCHEDULED_SHARE_OF_PAID)
    return {
        "agent_id": agent.agent_id,
        "date": day.isoformat(),
        "scheduled_seconds": str(scheduled),
        "adherent_seconds": str(round(scheduled * adherence)),
        "logged_in_seconds": str(logged_in),
        "handle_seconds": str(handle),
        "available_seconds": str(productive - handle),
        "paid_seconds": str(paid),
    }


def schedule_rows(rng, rotas, handled):
    # Sunday on-call duty is not planned in the WFM tool, so it has no rows
    for day, working in rotas.items():
        if day_kind(day) != "sunday":
            for agent in working:
                yield schedule_row(rng, agent, day, handled.get((agent.agent_id, day), 0))


def cost_rows(rng):
    for day in all_days():
        for name, site in SITES.items():
            mean = site.daily_cost[day_kind(day)]
            yield {
                "date": day.isoformat(),
                "site": name,
                "vendor": site.vendor,
                "amount": f"{max(0.0, rng.gauss(mean, mean * 0.03)):.2f}",
            }


# --- technical performance --------------------------------------------------------------

COMPONENTS = ("crm", "telephony", "knowledge_base")
# (median ms, lognormal sigma); p95 = median * exp(1.645 * sigma)
LATENCY = {"crm": (780, 0.33), "telephony": (400, 0.20), "knowledge_base": (960, 0.17)}
BUSY_HOURS_FACTOR = 1.12  # more load while the floor is working
DEGRADED_CRM_FACTOR = 1.9


def response_ms(rng, component, busy, degraded):
    median, sigma = LATENCY[component]
    if busy:
        median *= BUSY_HOURS_FACTOR
    if degraded and component == "crm":
        median *= DEGRADED_CRM_FACTOR
    return round(rng.lognormvariate(math.log(median), sigma), 1)


def system_events(rng):
    """One sample per component every 15 minutes of real (UTC) time."""
    micros, components, latencies = [], [], []
    instant = START_UTC
    while instant < EXTRACT_UTC:
        local = instant.astimezone(TZ)
        busy = 8 <= local.hour < 20 and local.weekday() != 6
        degraded = iso_week_label(local.date()) == DEGRADED_WEEK
        epoch_us = int((instant - datetime(1970, 1, 1, tzinfo=timezone.utc)).total_seconds()) * 1_000_000
        for component in COMPONENTS:
            micros.append(epoch_us)
            components.append(component)
            latencies.append(response_ms(rng, component, busy, degraded))
        instant += timedelta(minutes=15)
    return pl.DataFrame({
        "at": pl.Series("at", micros, dtype=pl.Int64).cast(pl.Datetime("us", time_zone="UTC")),
        "component": pl.Series("component", components, dtype=pl.String),
        "response_ms": pl.Series("response_ms", latencies, dtype=pl.Float64),
    })


def incident(rng, opened, component, severity, restored=True):
    hours = min(12.0, 0.5 + rng.expovariate(1 / 3.5))
    return {
        "opened": opened,
        "restored_at": fmt_offset(opened + timedelta(seconds=round(hours * 3600))) if restored else "",
        "severity": str(severity),
        "component": component,
    }


def random_instant(rng, first, last):
    return first + timedelta(seconds=rng.randrange(int((last - first).total_seconds())))


INCIDENT_COLUMNS = ("incident_id", "opened_at", "restored_at", "severity", "component")


def incident_rows(rng):
    rows = []
    # background incidents, opened early enough to be restored before the extract
    for _ in range(36):
        opened = random_instant(rng, START_UTC, EXTRACT_UTC - timedelta(hours=12))
        component = pick(rng, COMPONENTS, (40, 35, 25))
        rows.append(incident(rng, opened, component, pick(rng, (1, 2, 3), (10, 30, 60))))
    # the crm slowdown of 2026-W41 was reported twice
    for day in (date(2026, 10, 6), date(2026, 10, 8)):
        opened = local_to_utc(datetime.combine(day, time(9)) + timedelta(seconds=rng.randrange(7200)))
        rows.append(incident(rng, opened, "crm", 2))
    # two incidents still being worked on at extract time
    for _ in range(2):
        opened = random_instant(rng, EXTRACT_UTC - timedelta(hours=36), EXTRACT_UTC - timedelta(hours=1))
        rows.append(incident(rng, opened, pick(rng, COMPONENTS, (40, 35, 25)), 3, restored=False))
    rows.sort(key=lambda r: r["opened"])
    for number, row in enumerate(rows, start=1):
        row["incident_id"] = f"INC{number:04d}"
        row["opened_at"] = fmt_offset(row.pop("opened"))
    return rows


# --- output ------------------------------------------------------------------------------


def write_csv(name, columns, rows, *, windows_export=False):
    """QUOTE_MINIMAL CSV; the ACD export mimics Windows (BOM, CRLF)."""
    path = DATA_DIR / name
    encoding = "utf-8-sig" if windows_export else "utf-8"
    count = 0
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n" if windows_export else "\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([row[column] for column in columns])
            count += 1
    return name, count


def set_people(agents, rotas):
    """Hire dates of the new-hire cohort, the leavers and the working coach's sessions;
    decided from the roster and the rotas alone (no draws from the shared generator)."""
    by_id = {a.agent_id: a for a in agents}
    for agent_id in NEW_HIRES:
        by_id[agent_id].hire_date = NEW_HIRE_DATE
    weekend = {a.agent_id for d in (LEAVE_DATE + timedelta(days=1), LEAVE_DATE + timedelta(days=2))
               for a in rotas.get(d, [])}
    for candidates, reason in LEAVERS:
        leaver = next(by_id[c] for c in candidates if c not in weekend)
        leaver.leave_date, leaver.leave_reason = LEAVE_DATE, reason
    sessions = []
    for coach, coached, metric, topic in COACHED:
        for k, agent_id in enumerate(coached):
            day = COACHING_WEEK_MONDAY + timedelta(days=1 + k % 3)  # Tuesday .. Thursday
            when = datetime.combine(day, time(14 + k // 3))
            sessions.append({
                "session_id": f"S{len(sessions) + 1:03d}",
                "agent_id": agent_id,
                "coached_at": fmt_local(when),
                "coach": coach,
                # one session names no metric (a coaching log often does not): read with
                # `tpmkit coaching --metric aht`
                "metric": "" if (coach, k) == ("Jonas Keller", 4) else metric,
                "topic": topic,
            })
            if coach == WORKING_COACH:
                by_id[agent_id].coached_on = day
    return sessions


COACHING_COLUMNS = ("session_id", "agent_id", "coached_at", "coach", "metric", "topic")
# beside tpmkit.yaml (read automatically): the CRM outage keeps W41 out of the response
# time's fits and control limits; the holiday marks Berlin's records of its week
ANNOTATION_ROWS = (
    {"from": "2026-10-05", "to": "2026-10-11", "text": "CRM slowdown", "kind": "outage",
     "metric": "system_response_p95", "group": "", "value": "", "exclude": "true"},
    {"from": "2026-10-03", "to": "", "text": "German Unity Day", "kind": "holiday",
     "metric": "", "group": "site", "value": "Berlin", "exclude": ""},
)
ANNOTATION_COLUMNS = ("from", "to", "text", "kind", "metric", "group", "value", "exclude")


def write_parquet(name, frame):
    frame.write_parquet(DATA_DIR / name)
    return name, frame.height


def print_summary(written):
    print(f"{'file':<24}{'rows':>8}{'bytes':>12}")
    total = 0
    for name, count in written:
        size = (DATA_DIR / name).stat().st_size
        total += size
        print(f"{name:<24}{count:>8}{size:>12}")
    print(f"{'total':<24}{'':>8}{total:>12}")


def main():
    rng = random.Random(SEED)  # the only source of randomness
    DATA_DIR.mkdir(exist_ok=True)
    # the generation order below is part of the reproducibility contract
    agents, specialists = build_roster(rng)
    rotas = plan_rotas(rng, agents)
    sessions = set_people(agents, rotas)
    contacts = contact_skeletons(rng, rotas)
    assign_customers(rng, contacts)
    handled = {}  # (agent_id, day) -> handle seconds, filled while the calls are written
    written = [
        write_csv("roster.csv", ROSTER_COLUMNS, roster_rows(agents + specialists)),
        write_csv("queues.csv", QUEUE_COLUMNS, queue_rows()),  # draws nothing from rng
        write_csv("acd_calls.csv", ACD_COLUMNS, call_rows(rng, contacts, handled),
                  windows_export=True),
        write_csv("tickets.csv", TICKET_COLUMNS, ticket_rows(rng, agents)),
        write_csv("qa.csv", QA_COLUMNS, qa_rows(rng, agents, contacts)),
        write_csv("schedule.csv", SCHEDULE_COLUMNS, schedule_rows(rng, rotas, handled)),
        write_csv("costs.csv", ("date", "site", "vendor", "amount"), cost_rows(rng)),
        write_parquet("system_events.parquet", system_events(rng)),
        write_csv("incidents.csv", INCIDENT_COLUMNS, incident_rows(rng)),
        write_csv("coaching.csv", COACHING_COLUMNS, sessions),
        write_csv("../annotations.csv", ANNOTATION_COLUMNS, ANNOTATION_ROWS),
    ]
    print_summary(written)


if __name__ == "__main__":
    main()
