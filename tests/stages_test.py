"""Tests for tfvidinterp.jobs.stages."""

import json
import os

import tensorflow as tf

from tfvidinterp import errors
from tfvidinterp.jobs import stages


class StagesTest(tf.test.TestCase):
    def setUp(self):
        super().setUp()
        self.dir = os.path.join(self.get_temp_dir(), "job")
        self.calls = []

    def part(self, name, fails=False):
        """A part that logs its call and writes `<dir>/<name>`."""
        path = os.path.join(self.dir, name)

        def function():
            self.calls.append(name)
            if fails:
                raise RuntimeError("killed")
            with open(path, "w") as f:
                f.write(name)

        return stages.Part(name, function, (path,))

    def job(self, inputs=1, fresh=False, fail=()):
        """Runs stage a (parts a1, a2) and b, which reads a."""
        job = stages.Stages(
            self.dir,
            "state.json",
            {"x": (1, 2)},
            fresh=fresh,
            outputs=["a1", "a2", "b"],
        )
        a = [self.part(n, n in fail) for n in ("a1", "a2")]
        results = [
            job.run("a", inputs, a, [p.files[0] for p in a]),
            job.run(
                "b",
                None,
                [self.part("b")],
                [os.path.join(self.dir, "b")],
                after=["a"],
            ),
        ]
        return job, results

    def state(self):
        with open(os.path.join(self.dir, "state.json")) as f:
            return json.load(f)

    def test_skip_resume_and_redo(self):
        job, results = self.job()
        self.assertEqual(results, [stages.DONE, stages.DONE])
        self.assertEqual(self.calls, ["a1", "a2", "b"])
        self.assertEqual(self.state()["options"], {"x": [1, 2]})
        self.assertEqual(set(job.seconds()), {"a", "b"})
        before = self.state()
        self.calls.clear()
        self.assertEqual(self.job()[1], [stages.SKIPPED] * 2)
        self.assertEqual((self.calls, self.state()), ([], before))
        # A missing output redoes its stage from scratch, so b, which reads
        # it, is redone too.
        os.remove(os.path.join(self.dir, "a2"))
        self.assertEqual(self.job()[1], [stages.DONE, stages.DONE])
        self.assertEqual(self.calls, ["a1", "a2", "b"])
        self.calls.clear()
        self.assertEqual(self.job(inputs=2)[1], [stages.DONE, stages.DONE])
        self.assertEqual(self.calls, ["a1", "a2", "b"])

    def test_an_interrupted_stage_resumes(self):
        with self.assertRaisesRegex(RuntimeError, "killed"):
            self.job(fail=["a2"])
        entry = self.state()["stages"]["a"]
        self.assertEqual((entry["parts"], entry["finished"]), (["a1"], False))
        self.calls.clear()
        self.assertEqual(self.job()[1], [stages.RESUMED, stages.DONE])
        self.assertEqual(self.calls, ["a2", "b"])
        self.assertTrue(self.state()["stages"]["a"]["finished"])

    def test_other_inputs_delete_the_old_outputs_first(self):
        self.job()
        with self.assertRaisesRegex(RuntimeError, "killed"):
            self.job(inputs=2, fail=["a1"])
        self.assertFalse(os.path.exists(os.path.join(self.dir, "a2")))
        self.assertTrue(os.path.exists(os.path.join(self.dir, "b")))

    def test_an_unreadable_state_redoes_everything(self):
        self.job()
        with open(os.path.join(self.dir, "state.json"), "w") as f:
            f.write('{"format": "tfvidinterp-stages-1", "stag')
        self.calls.clear()
        self.assertEqual(self.job()[1], [stages.DONE, stages.DONE])
        self.assertEqual(self.calls, ["a1", "a2", "b"])

    def test_fresh_and_foreign_directories(self):
        self.job()
        with open(os.path.join(self.dir, "keep"), "w") as f:
            f.write("a file of the user's")
        job = stages.Stages(
            self.dir, "state.json", {}, fresh=True, outputs=["a1"]
        )
        self.assertEqual(job.state["stages"], {})
        # The outputs given and those the last run recorded are gone.
        self.assertEqual(sorted(os.listdir(self.dir)), ["keep", "state.json"])
        os.remove(os.path.join(self.dir, "state.json"))
        for fresh in (False, True):
            with self.assertRaisesRegex(
                errors.InputError,
                r"job is not empty and has no state.json: not this job's",
            ):
                stages.Stages(self.dir, "state.json", {}, fresh=fresh)
        self.assertEqual(os.listdir(self.dir), ["keep"])
        with self.assertRaisesRegex(errors.InputError, "keep is a file"):
            stages.Stages(os.path.join(self.dir, "keep"), "state.json", {})

    def tamper(self, outputs):
        """Runs the job, then lists `outputs` in its state file."""
        self.job()
        state = self.state()
        state["outputs"] = outputs
        with open(os.path.join(self.dir, "state.json"), "w") as f:
            json.dump(state, f)

    def test_fresh_deletes_nothing_outside_the_directory(self):
        outside = os.path.join(self.get_temp_dir(), "outside")
        os.makedirs(outside, exist_ok=True)
        kept = os.path.join(outside, "precious")
        with open(kept, "w") as f:
            f.write("a file of the user's")
        self.job()
        os.symlink(outside, os.path.join(self.dir, "link"))
        for name in (
            "../outside/precious",
            kept,  # Absolute: os.path.join would drop the directory.
            "link/precious",  # Inside by name, outside in fact.
            ".",
            "",
        ):
            self.tamper(["a1", name])
            with self.assertRaisesRegex(
                errors.InputError, r"is not inside .*job: not deleted"
            ):
                stages.Stages(self.dir, "state.json", {}, fresh=True)
            self.assertTrue(os.path.exists(kept), name)
            # Refused before anything was deleted.
            self.assertTrue(os.path.exists(os.path.join(self.dir, "a1")))
        # A link inside is removed as a link, never followed.
        self.tamper(["link"])
        stages.Stages(self.dir, "state.json", {}, fresh=True)
        self.assertFalse(os.path.lexists(os.path.join(self.dir, "link")))
        self.assertTrue(os.path.exists(kept))

    def test_outputs_that_are_not_names_make_the_state_unreadable(self):
        self.tamper("a1")  # A string, not a list: its letters are no names.
        job = stages.Stages(self.dir, "state.json", {}, outputs=["b"])
        self.assertEqual(job.state["stages"], {})


if __name__ == "__main__":
    tf.test.main()
