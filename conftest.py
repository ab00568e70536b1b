pytest_plugins = ["mimis_platform.testing"]
