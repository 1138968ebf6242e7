-- Where an imported problem came from (its number or key in ServiceNow or Jira Service
-- Management): re-importing an export adds nothing twice, and incidents imported later link
-- to it by that reference.
-- Kept in step with ../postgres/0021_problem_source.sql.

ALTER TABLE problems ADD COLUMN source_ref TEXT;
CREATE UNIQUE INDEX problems_source_ref ON problems (source_ref);
