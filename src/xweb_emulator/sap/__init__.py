"""SAP Business ByDesign / Cloud for Customer: the ManageCampaignInboundIn service (bounces, mailing permissions,
campaign reactions)."""
