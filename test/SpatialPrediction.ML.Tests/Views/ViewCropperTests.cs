using SpatialPrediction.ML.Views;
using static TorchSharp.torch;

namespace SpatialPrediction.ML.Tests.Views;

public class ViewCropperTests
{
    /// <summary>An 8×8 single-image batch whose value at (y, x) is y * 8 + x, in all three channels.</summary>
    private static Tensor Ramp() => arange(64, dtype: ScalarType.Float32).reshape(1, 1, 8, 8).expand(1, 3, 8, 8).contiguous();

    [Test]
    public void The_whole_image_box_at_the_same_size_returns_the_image()
    {
        using var scope = NewDisposeScope();
        var image = Ramp();
        using var pictures = PictureBatch.Of(image);

        var crop = ViewCropper.Crop(pictures, new[] { new ViewBox(0.5f, 0.5f, 1f, 1f) }, null, 8);

        (crop - image).abs().max().item<float>().Should().Be(0f);
    }

    [Test]
    public void A_quadrant_box_at_native_resolution_returns_exactly_that_quadrant()
    {
        using var scope = NewDisposeScope();
        var image = Ramp();
        using var pictures = PictureBatch.Of(image);

        var crop = ViewCropper.Crop(pictures, new[] { new ViewBox(0.75f, 0.25f, 0.5f, 0.5f) }, null, 4);

        (crop - image[.., .., 0..4, 4..8]).abs().max().item<float>().Should().Be(0f);
    }

    [Test]
    public void A_box_of_a_wide_byte_picture_at_native_resolution_returns_exactly_its_pixels()
    {
        using var scope = NewDisposeScope();
        var picture = randint(0, 256, new long[] { 3, 6, 10 }, generator: new TorchSharp.torch.Generator(3)).to_type(ScalarType.Byte);
        using var pictures = new PictureBatch(new[] { picture }, owned: false);

        var crop = ViewCropper.Crop(pictures, new[] { ViewBox.FromPixels(5, 1, 4, 4, 10, 6) }, null, 4);

        var expected = picture[.., 1..5, 5..9].to_type(ScalarType.Float32) / 255f;
        (crop[0] - expected).abs().max().item<float>().Should().BeLessThan(1e-6f);
    }

    [Test]
    public void Shrinking_is_antialiased_so_fine_detail_averages_instead_of_aliasing()
    {
        using var scope = NewDisposeScope();
        // A one-pixel checkerboard: point sampling at a quarter of the size would read all-black or all-white squares.
        var checker = ((arange(32).reshape(32, 1) + arange(32).reshape(1, 32)) % 2).to_type(ScalarType.Float32);
        using var pictures = PictureBatch.Of(checker.expand(1, 3, 32, 32).contiguous());

        var crop = ViewCropper.Crop(pictures, new[] { new ViewBox(0.5f, 0.5f, 1f, 1f) }, null, 8);

        (crop - 0.5f).abs().max().item<float>().Should().BeLessThan(0.02f);
    }

    [Test]
    public void A_mirrored_crop_equals_the_crop_of_the_mirrored_image_at_the_mirrored_box()
    {
        using var scope = NewDisposeScope();
        var image = rand(2, 3, 16, 16, generator: new TorchSharp.torch.Generator(7));
        var boxes = new[] { ViewBox.FromPixels(1, 2, 6, 8, 16, 16), ViewBox.FromPixels(9, 4, 4, 5, 16, 16) };
        using var pictures = PictureBatch.Of(image);
        using var mirroredPictures = PictureBatch.Of(image.flip(3));

        var mirroredCrop = ViewCropper.Crop(pictures, boxes, new[] { true, true }, 8);
        var cropOfMirrored = ViewCropper.Crop(mirroredPictures, boxes.Select(b => b.Mirrored()).ToArray(), null, 8);

        (mirroredCrop - cropOfMirrored).abs().max().item<float>().Should().BeLessThan(1e-5f);
    }

    [Test]
    public void Box_count_must_match_the_batch()
    {
        using var scope = NewDisposeScope();
        using var pictures = PictureBatch.Of(Ramp());
        FluentActions.Invoking(() => ViewCropper.Crop(pictures, Array.Empty<ViewBox>(), null, 4))
            .Should().Throw<ArgumentException>().WithMessage("*0 boxes*batch of 1*");
    }
}
