from mimis_platform.entrypoint import serve
from services.catalog.bootstrap import bootstrap
from services.catalog.settings import CatalogSettings

if __name__ == "__main__":
    serve(bootstrap, CatalogSettings())
