"""Drop and create the PostgreSQL database named in the URL given (for the benchmark)."""

import sys
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

url = urlsplit(sys.argv[1])
name = url.path.lstrip("/")
if not name or name in {"postgres", "template0", "template1"}:
    sys.exit(f"Refusing to recreate the database {name!r}: name a database for the benchmark.")
server = urlunsplit(url._replace(path="/postgres"))
with psycopg.connect(server, autocommit=True) as connection:
    connection.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
    connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
print(f"Recreated database {name}.")
