-- Every reason a workshop was cancelled, in the cohorts the viewer may see, most frequent first: the
-- order that gives each reason one colour in every view of the cancelled-workshops chart.
SELECT w.cancellation_reason, count(*) AS workshops
FROM workshops w
JOIN cohorts c USING (cohort_id)
WHERE w.status = 'cancelled' AND can_see_cohort(c.prison_id, c.sdm, $scope_prisons, $scope_sdm)
GROUP BY w.cancellation_reason
ORDER BY workshops DESC, w.cancellation_reason
