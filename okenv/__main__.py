from okenv.fast import main

main()
