"""tpmkit: contact-center performance measures as version-controlled YAML, computed with polars."""

__version__ = "0.1.0"
