-- Each published advisory's page and documents as rendered at its announcement (and
-- again at each correction), so that announcement-day traffic is answered without
-- rendering. `etag` is the validator of what it was rendered from: a render whose
-- validator no longer matches the case is not served. The body is sealed under the
-- case's binding, so whoever can write to the database cannot change a public page.
-- Not backed up: a restored store renders again.
CREATE TABLE public_renders (
    case_id INTEGER NOT NULL REFERENCES cases(id),
    form TEXT NOT NULL,
    etag TEXT NOT NULL,
    body_sealed BLOB NOT NULL,
    rendered_at INTEGER NOT NULL,
    PRIMARY KEY (case_id, form)
);
