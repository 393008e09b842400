-- When each member last opened each case: a message from outside the team that arrived
-- later shows the case as unread in their queue.
CREATE TABLE case_seen (
    case_id BIGINT NOT NULL REFERENCES cases(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    at BIGINT NOT NULL,
    PRIMARY KEY (case_id, user_id)
);
