#!/usr/bin/env python
from dangan.cli import main

if __name__ == "__main__":
    main()
