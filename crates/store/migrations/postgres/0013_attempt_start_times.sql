-- Attempts recorded for a job of a kind no worker knew were stored with an empty start time;
-- times are now read strictly, so give them the start their job was created with.
UPDATE job_attempts
SET started_at = COALESCE(
    (SELECT jobs.created_at FROM jobs WHERE jobs.id = job_attempts.job_id),
    '1970-01-01T00:00:00.000Z'
)
WHERE started_at = '';
