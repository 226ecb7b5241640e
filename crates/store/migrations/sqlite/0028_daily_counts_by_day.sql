-- The overview sums every program's own row (participant_id '') since a day: this index finds
-- those rows without reading the referrers' rows.
CREATE INDEX daily_counts_by_day ON daily_counts (participant_id, day);
