-- What The Conversation delivered in [period_start, period_end) (cohorts by start date):
-- cohorts, delivered workshops and hours, people reached (attended at least one delivered
-- workshop) by role, and costs over the cohorts that recorded one; added up from cohort_reach.
WITH chosen AS (
    SELECT c.cohort_id, c.cost_gbp, r.workshops_delivered, r.workshop_hours, r.prisoners_reached, r.staff_reached
    FROM cohorts c
    JOIN cohort_reach r USING (cohort_id)
    WHERE c.start_date >= $period_start AND c.start_date < $period_end
)
SELECT
    count(*) AS cohorts,
    coalesce(sum(workshops_delivered), 0)::BIGINT AS workshops_delivered,
    coalesce(sum(workshop_hours), 0) AS workshop_hours,
    coalesce(sum(prisoners_reached), 0)::BIGINT AS prisoners_reached,
    coalesce(sum(staff_reached), 0)::BIGINT AS staff_reached,
    count(cost_gbp) AS costed_cohorts,
    coalesce(sum(cost_gbp), 0) AS cost_gbp,
    coalesce(sum(prisoners_reached + staff_reached) FILTER (WHERE cost_gbp IS NOT NULL), 0)::BIGINT AS costed_participants_reached,
    coalesce(sum(workshop_hours) FILTER (WHERE cost_gbp IS NOT NULL), 0) AS costed_workshop_hours
FROM chosen
