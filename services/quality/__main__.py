from mimis_platform.entrypoint import serve
from services.quality.bootstrap import bootstrap
from services.quality.settings import QualitySettings

if __name__ == "__main__":
    serve(bootstrap, QualitySettings())
