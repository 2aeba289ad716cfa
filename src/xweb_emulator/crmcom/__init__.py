"""CRM.COM Web API: token login and web customer events (bulk create with per-item results, create, show, list)."""
