from ccdata.cli import main

main()
