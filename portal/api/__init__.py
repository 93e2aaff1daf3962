"""The portal's API, above both apps' cores: v1 (the user-management contract: users,
flocks, org settings, the audit trail) and v2 (the Nebula users contract)."""
