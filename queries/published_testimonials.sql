-- Testimonials that may be shown: consent to publish only, and nothing else about the person.
SELECT t.display_name, t.role, t.quote, p.name AS prison
FROM testimonials t
JOIN prisons p USING (prison_id)
WHERE t.consent_to_publish
ORDER BY t.testimonial_id
