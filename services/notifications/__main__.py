from mimis_platform.entrypoint import serve
from services.notifications.bootstrap import bootstrap
from services.notifications.settings import NotificationsSettings

if __name__ == "__main__":
    serve(bootstrap, NotificationsSettings())
