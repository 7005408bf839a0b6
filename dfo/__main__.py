from dfo.cli.entry import main

main()
