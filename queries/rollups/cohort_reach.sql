-- Per cohort: delivered workshops and their hours, and the prisoners and staff reached (attended
-- at least one delivered workshop). A participant belongs to one cohort, so adding cohorts never
-- counts a person twice.
WITH delivered AS (
    SELECT cohort_id, count(*) AS workshops_delivered, sum(duration_hours) AS workshop_hours
    FROM workshops
    WHERE status = 'delivered'
    GROUP BY cohort_id
),
reached AS (
    SELECT p.cohort_id, p.role, count(DISTINCT p.participant_id) AS people
    FROM attendance a
    JOIN workshops w USING (workshop_id)
    JOIN participants p USING (participant_id)
    WHERE a.attended AND w.status = 'delivered'
    GROUP BY ALL
)
SELECT
    c.cohort_id,
    coalesce(d.workshops_delivered, 0) AS workshops_delivered,
    coalesce(d.workshop_hours, 0) AS workshop_hours,
    coalesce((SELECT people FROM reached r WHERE r.cohort_id = c.cohort_id AND r.role = 'prisoner'), 0) AS prisoners_reached,
    coalesce((SELECT people FROM reached r WHERE r.cohort_id = c.cohort_id AND r.role = 'staff'), 0) AS staff_reached
FROM cohorts c
LEFT JOIN delivered d USING (cohort_id)
ORDER BY c.cohort_id
