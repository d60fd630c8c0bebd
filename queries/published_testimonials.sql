-- Testimonials that may be shown for one programme: consent to publish only, and nothing else about the
-- person. A quote from a cohort is The Conversation's; a quote from no cohort, in a prison where the Good
-- Prison Project ran, is that project's. A campaign shows only its own programme's quotes.
SELECT t.display_name, t.role, t.quote, p.name AS prison
FROM testimonials t
JOIN prisons p USING (prison_id)
LEFT JOIN prison_programmes pp USING (prison_id)
WHERE t.consent_to_publish
  AND CASE $programme
      WHEN 'the_conversation' THEN t.cohort_id IS NOT NULL
      WHEN 'good_prison_project' THEN t.cohort_id IS NULL AND coalesce(pp.runs_good_prison_project, FALSE)
      ELSE FALSE
  END
ORDER BY t.testimonial_id
