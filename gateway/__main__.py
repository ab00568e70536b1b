import uvicorn

from gateway.app import bootstrap
from gateway.settings import GatewaySettings

if __name__ == "__main__":
    settings = GatewaySettings()
    uvicorn.run(bootstrap(settings), host=settings.http_host, port=settings.http_port, log_config=None,
                access_log=False)
