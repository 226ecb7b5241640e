-- The time zone each staff user reads times in (an IANA name such as Europe/Paris); NULL
-- means the installation's default (the `time_zone` setting).
ALTER TABLE staff_users ADD COLUMN time_zone TEXT;
