from dfo.cli.main import main

main()
