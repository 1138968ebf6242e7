-- Which assignment groups each account belongs to: the "my groups" queue.
-- Kept in step with ../sqlite/0019_user_groups.sql.

CREATE TABLE user_groups (
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    group_name TEXT NOT NULL,
    PRIMARY KEY (user_id, group_name)
);
CREATE INDEX user_groups_group ON user_groups (group_name);
