import os
import struct
import tempfile
import unittest

import torch

from spatial_prediction_torch import safetensors_io


class SafetensorsTest(unittest.TestCase):
    def setUp(self):
        self.folder = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.folder.name, "t.safetensors")

    def tearDown(self):
        self.folder.cleanup()

    def test_round_trip_keeps_values_dtypes_shapes_and_metadata(self):
        tensors = {"f": torch.randn(2, 3), "i": torch.arange(5), "b": torch.tensor([1, 0], dtype=torch.uint8),
                   "h": torch.randn(4).bfloat16(), "scalar": torch.tensor(3, dtype=torch.int64), "empty": torch.zeros(0, 2)}
        safetensors_io.save(tensors, self.path, {"kind": "SmallResNet"})
        loaded, metadata = safetensors_io.load(self.path)
        self.assertEqual(metadata, {"kind": "SmallResNet"})
        self.assertEqual(sorted(loaded), sorted(tensors))
        for name, value in tensors.items():
            self.assertEqual(loaded[name].dtype, value.dtype, name)
            self.assertTrue(torch.equal(loaded[name], value), name)

    def test_a_header_longer_than_the_file_is_refused(self):
        with open(self.path, "wb") as file:
            file.write(struct.pack("<Q", 1000) + b"{}")
        with self.assertRaisesRegex(ValueError, "does not fit"):
            safetensors_io.load(self.path)

    def test_a_byte_range_that_does_not_hold_the_shape_is_refused_naming_the_tensor(self):
        header = b'{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,8]}}'
        with open(self.path, "wb") as file:
            file.write(struct.pack("<Q", len(header)) + header + bytes(8))
        with self.assertRaisesRegex(ValueError, "tensor w claims bytes 0..8"):
            safetensors_io.load(self.path)

    def test_an_unknown_dtype_is_refused(self):
        header = b'{"w":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}'
        with open(self.path, "wb") as file:
            file.write(struct.pack("<Q", len(header)) + header + bytes(8))
        with self.assertRaisesRegex(ValueError, "unsupported dtype C64"):
            safetensors_io.load(self.path)


if __name__ == "__main__":
    unittest.main()
