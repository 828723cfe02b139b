"""The audit trail: who changed which workflow, credential, user or token, and who started,
cancelled or retried which run, when and from where (see `services.audit_record`)."""
