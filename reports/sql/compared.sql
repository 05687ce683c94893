-- Every organisation, indicator and year compared: an observation, a change or a goal. Made a table once per render
-- (beside yoy and goals, after them) and read by the page plan (org_years, indicator_spans) and the index's lists.
select org, indicator_id, year from observations
union
select org, indicator_id, year from yoy
union
select org, indicator_id, year from goals
