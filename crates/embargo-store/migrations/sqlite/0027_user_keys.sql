-- A person's OpenPGP public key: mail to them (pre-notifications of embargoed cases)
-- is encrypted to it.
ALTER TABLE users ADD COLUMN openpgp_key TEXT;
