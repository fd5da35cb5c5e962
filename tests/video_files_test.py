"""Tests for tfvidinterp.data.video_files."""

import os
import re

import tensorflow as tf

from tfvidinterp import errors
from tfvidinterp.data import video_files


def touch(root, *names):
    paths = []
    for name in names:
        path = os.path.join(root, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write("x")
        paths.append(path)
    return paths


class VideoFilesTest(tf.test.TestCase):
    def test_a_directory_gives_its_videos_in_every_sub_folder(self):
        root = self.get_temp_dir()
        a, b, c = touch(root, "a/clip.mp4", "b/clip.mp4", "c/d/x.AVI")
        touch(root, "notes.txt", ".hidden.mp4", ".cache/y.mp4")
        videos = video_files.list_videos(root)
        self.assertEqual([v.path for v in videos], [a, b, c])
        self.assertEqual(
            [v.id for v in videos], [os.path.realpath(p) for p in (a, b, c)]
        )
        self.assertEqual({v.label for v in videos}, {None})

    def test_a_glob_and_a_file_named_twice(self):
        root = self.get_temp_dir()
        a, b, _ = touch(root, "a/clip.mp4", "b/clip.mp4", "b/c/clip.mp4")
        listed = video_files.list_videos(os.path.join(root, "*", "clip.mp4"))
        self.assertEqual([v.path for v in listed], [a, b])
        deep = video_files.list_videos(os.path.join(root, "**", "clip.mp4"))
        self.assertLen(deep, 3)
        os.symlink(a, os.path.join(root, "link.mp4"))
        both = video_files.list_videos(os.path.join(root, "*", "*.mp4"))
        self.assertLen(both, 2)
        self.assertLen(video_files.list_videos(root), 3)  # The link is a.

    def test_a_csv_with_and_without_labels(self):
        root = self.get_temp_dir()
        a, b = touch(root, "v/a.mp4", "v/b.webm")
        path = os.path.join(root, "list.csv")
        with open(path, "w", encoding="utf-8-sig") as f:
            f.write(
                f"label,path\nwalking,v/a.mp4\n,{b}\nwalking,v/../v/a.mp4\n"
            )
        videos = video_files.list_videos(path)
        self.assertEqual(
            [(v.id, v.label) for v in videos],
            [(os.path.realpath(a), "walking"), (os.path.realpath(b), None)],
        )
        with open(path, "w") as f:
            f.write("path\nv/a.mp4\n")
        self.assertEqual(video_files.list_videos(path)[0].path, a)

    def test_bad_input(self):
        root = self.get_temp_dir()
        empty = os.path.join(root, "empty")
        os.makedirs(empty)
        touch(empty, "readme.txt")
        csv_path = os.path.join(root, "x.csv")
        for text, message in (
            ("file,label\na.mp4,x\n", "needs a header with a path column"),
            ("path,label\n,x\n", r"x.csv, line 2: an empty path"),
            ("path\na.mp4,b\n", "line 2: more fields than the header"),
            ("path,label\na.mp4,x\na.mp4,y\n", "listed with two labels"),
            ("path\n", "no rows in"),
        ):
            with open(csv_path, "w") as f:
                f.write(text)
            with self.assertRaisesRegex(errors.InputError, message):
                video_files.list_videos(csv_path)
        for spec, message in (
            (empty, re.escape("no video file (.3gp, .avi,")),
            (os.path.join(root, "*.nothing"), "no file matches"),
            (os.path.join(root, "missing.csv"), "No such CSV file"),
        ):
            with self.assertRaisesRegex(errors.InputError, message):
                video_files.list_videos(spec)


if __name__ == "__main__":
    tf.test.main()
