from cximpact.cli import main

main()
