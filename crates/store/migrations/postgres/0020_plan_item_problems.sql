-- The problems a village plan's item serves (村村有计划): when the item is done, each of them
-- still open is recorded as rectified in the same transaction, and the level above checks it.
CREATE TABLE plan_item_problems (
    item_id         BIGINT NOT NULL REFERENCES plan_items(id),
    problem_id      BIGINT NOT NULL REFERENCES problems(id),
    PRIMARY KEY (item_id, problem_id)
);
CREATE INDEX plan_item_problems_problem ON plan_item_problems(problem_id);
