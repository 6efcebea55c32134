"""Test hosts: real Debian 12 machines as containers under a real Docker engine.

Each host of a local/test environment runs as one container of the base image
``adx/bookworm-sshd:2``: a bare Debian 12 with sshd (key-only root login) and sudo, nothing
else; the deploy installs PostgreSQL itself, as in production. Its port 22 (and 5432 when the
inventory names a ``container.pg_port``) is published on 127.0.0.1 only; the hosts of one
environment share a private Docker network with the static addresses of the inventory.

Command line::

    python -m tools.testhosts image                  # ensure the base image
    python -m tools.testhosts up inventories/test.yml
    python -m tools.testhosts status [inventories/test.yml]
    python -m tools.testhosts down inventories/test.yml

The modules: `apt` (this machine's apt sources, for the image), `keys` (SSH key pair and
known_hosts lines), `engine` (the Docker client), `image` (the base image), `hosts` (an
environment's network and containers). They use the ``docker`` SDK and never import pyinfra.
"""
