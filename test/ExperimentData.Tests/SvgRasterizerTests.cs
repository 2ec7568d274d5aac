using SkiaSharp;
using SpatialPrediction.ML.ExperimentData;

namespace SpatialPrediction.ML.ExperimentData.Tests;

public class SvgRasterizerTests
{
    private static SKBitmap Render(string body, int size = 40)
        => SKBitmap.Decode(SvgRasterizer.RenderPng($"<svg viewBox=\"0 0 40 40\" xmlns=\"http://www.w3.org/2000/svg\">{body}</svg>", size));

    [Test]
    public void Fills_shapes_where_they_are_and_leaves_the_rest_transparent()
    {
        using var bitmap = Render("<rect x=\"0\" y=\"0\" width=\"20\" height=\"40\" fill=\"#FF0000\"/><circle cx=\"30\" cy=\"30\" r=\"5\" fill=\"#00f\"/>");

        bitmap.GetPixel(5, 20).Should().Be(new SKColor(255, 0, 0, 255));
        bitmap.GetPixel(30, 30).Should().Be(new SKColor(0, 0, 255, 255));
        bitmap.GetPixel(30, 5).Alpha.Should().Be(0);
    }

    [Test]
    public void Group_transforms_and_inherited_paint_apply_to_children()
    {
        using var bitmap = Render("<g fill=\"#00FF00\" transform=\"translate(20 0) scale(0.5)\"><rect x=\"0\" y=\"0\" width=\"40\" height=\"40\"/></g>");

        bitmap.GetPixel(30, 10).Should().Be(new SKColor(0, 255, 0, 255), "the rect is moved right by 20 and halved");
        bitmap.GetPixel(10, 10).Alpha.Should().Be(0);
        bitmap.GetPixel(30, 30).Alpha.Should().Be(0);
    }

    [Test]
    public void Strokes_without_fill_draw_only_the_outline_and_scale_with_the_output()
    {
        using var bitmap = Render("<rect x=\"10\" y=\"10\" width=\"20\" height=\"20\" fill=\"none\" stroke=\"#000000\" stroke-width=\"2\"/>", 80);

        bitmap.GetPixel(20, 40).Alpha.Should().Be(255, "the left edge at x = 10 of 40 is at 20 of 80");
        bitmap.GetPixel(40, 40).Alpha.Should().Be(0, "the inside is not filled");
    }

    [Test]
    public void Svg_transform_lists_compose_left_to_right()
    {
        // rotate(90) first maps the 10×2 bar at the origin onto x ∈ [−2, 0], y ∈ [0, 10]; translate(20 5) then moves it.
        using var bitmap = Render("<rect x=\"0\" y=\"0\" width=\"10\" height=\"2\" fill=\"#000\" transform=\"translate(20 5) rotate(90)\"/>");

        bitmap.GetPixel(19, 10).Alpha.Should().Be(255);
        bitmap.GetPixel(25, 6).Alpha.Should().Be(0, "translating first would have put the bar here");
    }

    [Test]
    public void Gradients_and_css_styles_are_drawn()
    {
        using var bitmap = Render("<defs><linearGradient id=\"g\"><stop offset=\"0\" stop-color=\"#f00\"/><stop offset=\"1\" stop-color=\"#00f\"/></linearGradient></defs>" +
                                  "<rect x=\"0\" y=\"0\" width=\"40\" height=\"20\" fill=\"url(#g)\"/><rect x=\"0\" y=\"20\" width=\"40\" height=\"20\" style=\"fill:#0f0\"/>");

        bitmap.GetPixel(1, 5).Red.Should().BeGreaterThan(200);
        bitmap.GetPixel(38, 5).Blue.Should().BeGreaterThan(200);
        bitmap.GetPixel(20, 30).Should().Be(new SKColor(0, 255, 0, 255));
    }

    [Test]
    public void A_wide_view_box_is_scaled_to_fit_and_centred()
    {
        using var bitmap = SKBitmap.Decode(SvgRasterizer.RenderPng("<svg viewBox=\"0 0 80 40\" xmlns=\"http://www.w3.org/2000/svg\"><rect width=\"80\" height=\"40\" fill=\"#000\"/></svg>", 40));

        bitmap.GetPixel(20, 20).Alpha.Should().Be(255);
        bitmap.GetPixel(20, 5).Alpha.Should().Be(0, "the 2:1 drawing fills the middle half");
        bitmap.GetPixel(20, 35).Alpha.Should().Be(0);
    }

    [Test]
    public void Malformed_or_non_svg_input_is_rejected_with_the_file_named()
    {
        var broken = () => SvgRasterizer.RenderPng("<svg viewBox=\"0 0 4 4\"><rect", 8, "c.svg");
        var notSvg = () => SvgRasterizer.RenderPng("<html/>", 8, "d.svg");
        var badSize = () => SvgRasterizer.RenderPng("<svg/>", 0, "f.svg");

        broken.Should().Throw<InvalidDataException>().WithMessage("c.svg*not well-formed*");
        notSvg.Should().Throw<InvalidDataException>().WithMessage("d.svg*<html>, not <svg>*");
        badSize.Should().Throw<ArgumentOutOfRangeException>();
    }
}
