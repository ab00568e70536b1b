"""GraphQL gateway for web and partner clients. No data of its own; it calls the services."""
