import base64

from setuptools import setup

# The payload prints a line; a real attack would hide a downloader here.
exec(base64.b64decode("cHJpbnQoImhlbGxvIGZyb20gdGhlIGV4YW1wbGUgcGF5bG9hZCIp"))

setup(name="colorsys-extra", version="0.1.0", packages=["colorsys_extra"])
