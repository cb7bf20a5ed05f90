"""Stand-in for the get-pip.py bootstrap script that ansible-test downloads from its own file host.

That host is out of reach here (only package registries are), so scripts/sanity.sh puts this file
where ansible-test caches the script. Like get-pip.py, it is run with pip-install arguments; it
bootstraps pip with the interpreter's own ensurepip and then installs what was asked from the index.
"""
import ensurepip
import subprocess
import sys

# get-pip.py understands these two itself; pip install does not.
GET_PIP_ONLY_OPTIONS = {"--no-setuptools", "--no-wheel"}


def main() -> None:
    ensurepip.bootstrap(upgrade=True)
    args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY_OPTIONS]
    subprocess.check_call([sys.executable, "-m", "pip", "install", *args])


if __name__ == "__main__":
    main()
