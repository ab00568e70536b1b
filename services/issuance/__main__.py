from mimis_platform.entrypoint import serve
from services.issuance.bootstrap import bootstrap
from services.issuance.settings import IssuanceSettings

if __name__ == "__main__":
    serve(bootstrap, IssuanceSettings())
