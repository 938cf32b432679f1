from retaguarda.cli import main

main()
