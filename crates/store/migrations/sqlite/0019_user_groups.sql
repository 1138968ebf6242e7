-- Which assignment groups each account belongs to: the "my groups" queue.
-- Kept in step with ../postgres/0019_user_groups.sql.

CREATE TABLE user_groups (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    group_name TEXT NOT NULL,
    PRIMARY KEY (user_id, group_name)
);
CREATE INDEX user_groups_group ON user_groups (group_name);
