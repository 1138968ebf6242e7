-- Corrective and preventive actions of a problem: what is to be done, by whom and by when,
-- and when it was done with what came of it.
-- Kept in step with ../postgres/0017_problem_actions.sql.

CREATE TABLE problem_actions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    problem_id INTEGER NOT NULL REFERENCES problems(id) ON DELETE CASCADE,
    -- corrective or preventive
    kind TEXT NOT NULL,
    description TEXT NOT NULL,
    owner TEXT NOT NULL,
    -- YYYY-MM-DD
    due_on TEXT NOT NULL,
    -- open or done
    state TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    done_at_ms INTEGER,
    done_note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX problem_actions_problem ON problem_actions (problem_id);
CREATE INDEX problem_actions_owner ON problem_actions (owner, state);
