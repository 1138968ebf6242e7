-- Where an imported incident came from (its ServiceNow number or Jira key), so that importing
-- the same export again adds nothing twice.
-- Kept in step with ../sqlite/0018_incident_source.sql.

ALTER TABLE incidents ADD COLUMN source_ref TEXT;
CREATE UNIQUE INDEX incidents_source_ref ON incidents (source_ref) WHERE source_ref IS NOT NULL;
