from mimis_cli.app import main

main()
