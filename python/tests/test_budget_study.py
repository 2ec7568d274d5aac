import json
import os
import tempfile
import unittest

import torch
from PIL import Image  # python3-pil comes with python3-torchvision

from spatial_prediction_torch import budget_study, safetensors_io, study_data

# Emoji file names as PrepareData writes them: code points, U+FE0F in some styles' names and not in others.
NAMES = ["1f600", "1f601-fe0f", "1f602", "1f603", "1f604", "1f605", "1f606", "1f607", "1f608", "1f609",
         "1f60a", "1f60b", "1f60c", "1f60d", "1f60e", "1f60f", "1f610", "1f611", "1f612", "1f613"]


def write_png(picture, path):
    """A [C, H, W] uint8 tensor as a PNG (torchvision's encoder writes no alpha)."""
    Image.fromarray(picture.permute(1, 2, 0).numpy(), "RGBA" if picture.shape[0] == 4 else "RGB").save(path)


def write_prepared_folder(root):
    """A data folder shaped like PrepareData's: emoji/<style>/*.png with alpha, the category CSVs, photos.csv."""
    emoji = os.path.join(root, "emoji")
    for style in study_data.STYLES:
        os.makedirs(os.path.join(emoji, style))
        rows = []
        for index, name in enumerate(NAMES):
            file_name = (name if style != "openmoji" else name.replace("-fe0f", "")) + ".png"
            picture = torch.zeros(4, 16, 16, dtype=torch.uint8)
            picture[:3] = 200
            picture[3, 4:12, 4 + index % 4:10 + index % 4] = 255  # opaque part; the rest transparent with colour left in it
            write_png(picture, os.path.join(emoji, style, file_name))
            rows.append(f"{style}/{file_name},{'Faces' if index % 2 else 'Smileys'}")
        for stem in ("train", "test"):
            with open(os.path.join(emoji, f"{style}-category-{stem}.csv"), "w", encoding="utf-8") as file:
                file.write("path,label\n" + "\n".join(rows if stem == "train" else rows[:4]) + "\n")
    os.makedirs(os.path.join(root, "photos"))
    for index in range(3):
        write_png(torch.full((3, 40, 48), 60 * index, dtype=torch.uint8), os.path.join(root, "photos", f"p{index}.png"))
    with open(os.path.join(root, "photos.csv"), "w", encoding="utf-8") as file:
        file.write("path,label\n" + "\n".join(f"photos/p{i}.png,p{i}" for i in range(3)) + "\n")


class StudyDataTest(unittest.TestCase):
    def setUp(self):
        self.folder = tempfile.TemporaryDirectory()
        self.root = self.folder.name
        write_prepared_folder(self.root)
        self.path = os.path.join(self.root, "study.safetensors")

    def tearDown(self):
        self.folder.cleanup()

    def test_the_hash_is_fnv1a_and_the_key_ignores_fe0f_and_case(self):
        self.assertEqual(study_data.stable_hash("a"), 0xE40C292C)
        self.assertEqual(study_data.stable_hash(""), 2166136261)
        self.assertEqual(study_data.emoji_key("google/1F601-FE0F.png"), study_data.emoji_key("openmoji/1f601.png"))

    def test_the_validation_split_holds_out_the_same_emoji_in_every_style_and_no_test_row(self):
        counts = study_data.pack(self.root, 16, "validation", self.path)
        held = [n for n in NAMES if study_data.stable_hash(n.replace("-fe0f", "")) % 5 == 2]
        self.assertGreater(len(held), 0)
        self.assertEqual(counts, {"train": len(NAMES) - len(held), "eval": len(held), "twitter": len(held), "openmoji": len(held)})
        tensors, metadata = safetensors_io.load(self.path)
        self.assertEqual(json.loads(metadata["classes"]), ["Faces", "Smileys"])
        self.assertEqual(tensors["train_images"].dtype, torch.uint8)
        self.assertEqual(list(tensors["train_images"].shape), [counts["train"], 3, 16, 16])
        self.assertEqual(list(tensors["objects"].shape), [counts["eval"], 4, 16, 16])
        self.assertEqual(list(tensors["photos"].shape), [3, 3, 32, 32])
        # Transparent pixels are black in the pictures trained on (as the .NET decoder gives them), kept with alpha in the objects.
        self.assertEqual(int(tensors["train_images"][0, :, 0, 0].max()), 0)
        self.assertEqual(int(tensors["train_images"][0, 0, 6, 7]), 200)
        self.assertEqual(int(tensors["objects"][0, 3, 0, 0]), 0)

    def test_a_missing_csv_says_how_to_prepare_it(self):
        os.remove(os.path.join(self.root, "emoji", "google-category-train.csv"))
        with self.assertRaisesRegex(SystemExit, "PrepareData -- emoji"):
            study_data.pack(self.root, 16, "validation", self.path)


class BudgetStudyTest(unittest.TestCase):
    def test_composites_paste_inside_the_picture_and_leave_the_background_elsewhere(self):
        objects = torch.zeros(3, 4, 8, 8, dtype=torch.uint8)
        objects[:, 0] = 255
        objects[:, 3] = 255  # opaque red squares
        photos = torch.full((2, 3, 32, 32), 17, dtype=torch.uint8)
        images, boxes = budget_study.composites(objects, photos, 2, 16, torch.Generator().manual_seed(3))
        self.assertEqual(list(images.shape), [6, 3, 16, 16])
        for image, (left, top, side) in zip(images, boxes.int().tolist()):
            self.assertTrue(0 <= left and left + side <= 16 and 0 <= top and top + side <= 16)
            inside = torch.zeros(16, 16, dtype=torch.bool)
            inside[top:top + side, left:left + side] = True
            self.assertTrue(torch.allclose(image[:, ~inside], torch.full_like(image[:, ~inside], 17 / 255)))
            self.assertGreater(float(image[0, top + side // 2, left + side // 2]), 0.9)
        targets = budget_study.box_targets(boxes, 16)
        self.assertAlmostEqual(budget_study.iou(targets, targets), 1.0, places=5)
        shifted = targets.clone()
        shifted[:, 0] += 10
        self.assertEqual(budget_study.iou(targets, shifted), 0.0)

    def test_a_tiny_study_runs_keeps_its_runs_and_does_not_repeat_them(self):
        with tempfile.TemporaryDirectory() as root:
            write_prepared_folder(root)
            data = os.path.join(root, "study.safetensors")
            study_data.pack(root, 16, "test", data)
            out = os.path.join(root, "out")
            arguments = ["--data", data, "--out", out, "--backbone", "SmallResNet", "--width", "4", "--image-size", "16",
                         "--local-resolution", "8", "--epochs", "1", "--seeds", "1", "--hosts", "simclr", "--batch-size", "8",
                         "--device", "cpu"]
            budget_study.main(arguments)
            with open(os.path.join(out, "runs.json"), encoding="utf-8") as file:
                first = json.load(file)
            self.assertEqual(sorted(r["key"] for r in first["runs"]), ["simclr|host|1|1", "simclr|sp|1|1"])
            for run in first["runs"]:
                self.assertEqual(sorted(run["metrics"]), sorted(budget_study.METRICS))
                for name, value in run["metrics"].items():
                    self.assertTrue(value == value and abs(value) < 1e3, f"{run['key']} {name} = {value}")
            with open(os.path.join(out, "summary.md"), encoding="utf-8") as file:
                self.assertIn("| in style | ", file.read())
            budget_study.main(arguments)  # everything done: nothing runs again
            with open(os.path.join(out, "runs.json"), encoding="utf-8") as file:
                self.assertEqual(json.load(file), first)
            with self.assertRaisesRegex(SystemExit, "other settings"):
                budget_study.main(arguments[:-2] + ["--device", "cpu", "--batch-size", "4"])


if __name__ == "__main__":
    unittest.main()
