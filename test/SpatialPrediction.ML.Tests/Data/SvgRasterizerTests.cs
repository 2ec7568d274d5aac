using SkiaSharp;
using SpatialPrediction.ML.Data;

namespace SpatialPrediction.ML.Tests.Data;

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
        var matrix = SvgRasterizer.ParseTransform("translate(10,0) rotate(90)", "t");

        var point = matrix.MapPoint(1, 0);

        point.X.Should().BeApproximately(10, 1e-4f, "rotate first: (1,0) → (0,1), then translate by 10");
        point.Y.Should().BeApproximately(1, 1e-4f);
    }

    [Test]
    public void Unsupported_or_malformed_input_is_rejected_with_the_file_named()
    {
        var gradient = () => SvgRasterizer.RenderPng("<svg viewBox=\"0 0 4 4\"><linearGradient/></svg>", 8, "a.svg");
        var css = () => SvgRasterizer.RenderPng("<svg viewBox=\"0 0 4 4\"><rect style=\"fill:red\"/></svg>", 8, "b.svg");
        var broken = () => SvgRasterizer.RenderPng("<svg viewBox=\"0 0 4 4\"><rect", 8, "c.svg");
        var notSvg = () => SvgRasterizer.RenderPng("<html/>", 8, "d.svg");

        gradient.Should().Throw<NotSupportedException>().WithMessage("a.svg*linearGradient*");
        css.Should().Throw<NotSupportedException>().WithMessage("b.svg*style*");
        broken.Should().Throw<InvalidDataException>().WithMessage("c.svg*not well-formed*");
        notSvg.Should().Throw<InvalidDataException>().WithMessage("d.svg*expected <svg>*");
    }
}
