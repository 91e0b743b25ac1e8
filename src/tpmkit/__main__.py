from tpmkit.cli import main

main()
