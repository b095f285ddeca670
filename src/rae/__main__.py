from rae.cli.main import main

raise SystemExit(main())
