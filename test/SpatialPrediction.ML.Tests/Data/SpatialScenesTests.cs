using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;
using SpatialPrediction.ML.Data;

namespace SpatialPrediction.ML.Tests.Data;

public class SpatialScenesTests
{
    [Test]
    public void Same_seed_gives_identical_pixels_and_objects_whatever_the_set_size()
    {
        var a = SpatialScenes.Generate(20, new SpatialScenesOptions { Seed = 5 });
        var b = SpatialScenes.Generate(50, new SpatialScenesOptions { Seed = 5 });

        for (int i = 0; i < a.Count; i++)
        {
            a[i].Rgb.Should().Equal(b[i].Rgb);
            a[i].Objects.Should().Equal(b[i].Objects);
        }
    }

    [Test]
    public void Different_seeds_give_different_scenes()
    {
        var a = SpatialScenes.Generate(5, new SpatialScenesOptions { Seed = 1 });
        var b = SpatialScenes.Generate(5, new SpatialScenesOptions { Seed = 2 });

        a.Zip(b).Count(p => p.First.Rgb.SequenceEqual(p.Second.Rgb)).Should().Be(0);
    }

    [Test]
    public void Every_class_appears_and_every_box_lies_inside_the_image()
    {
        var scenes = SpatialScenes.Generate(400, new SpatialScenesOptions { DistractorCount = 2 });

        scenes.Select(s => s.Shape).Distinct().Should().HaveCount(8);
        scenes.SelectMany(s => s.Objects).Should().OnlyContain(o =>
            o.CenterX - o.Width / 2 >= -1e-5 && o.CenterX + o.Width / 2 <= 1 + 1e-5 &&
            o.CenterY - o.Height / 2 >= -1e-5 && o.CenterY + o.Height / 2 <= 1 + 1e-5);
        scenes.Should().OnlyContain(s => s.Objects.Count == 3 && s.Objects.Skip(1).All(o => o.Shape != s.Shape));
    }

    [Test]
    public void Main_object_scale_respects_the_options()
    {
        var options = new SpatialScenesOptions { MinObjectScale = 0.4f, MaxObjectScale = 0.5f };
        var scenes = SpatialScenes.Generate(200, options);

        // Side = scale * sqrt(aspect) with aspect in [0.8, 1.25], so each side is within scale * [0.894, 1.118].
        scenes.Select(s => MathF.Sqrt(s.Objects[0].Width * s.Objects[0].Height))
            .Should().OnlyContain(side => side >= 0.4f - 1e-4f && side <= 0.5f + 1e-4f);
    }

    [Test]
    public void The_main_object_is_visible_in_its_own_colour_at_its_box_centre_for_a_filled_shape()
    {
        var scenes = SpatialScenes.Generate(200).Where(s => s.Shape is SceneShape.Circle or SceneShape.Square or SceneShape.Diamond);

        foreach (var scene in scenes)
        {
            var o = scene.Objects[0];
            int x = (int)(o.CenterX * scene.Width), y = (int)(o.CenterY * scene.Height);
            int p = (y * scene.Width + x) * 3;
            Math.Abs(scene.Rgb[p] - o.Red).Should().BeLessThan(8);
            Math.Abs(scene.Rgb[p + 1] - o.Green).Should().BeLessThan(8);
            Math.Abs(scene.Rgb[p + 2] - o.Blue).Should().BeLessThan(8);
        }
    }

    [Test]
    public void Data_view_has_an_image_column_of_the_scene_size_and_an_integer_label()
    {
        var mlContext = new MLContext(1);
        var scenes = SpatialScenes.Generate(10, new SpatialScenesOptions { ImageSize = 40 });
        var view = SpatialScenes.ToDataView(mlContext, scenes);

        view.Schema["Image"].Type.Should().BeOfType<ImageDataViewType>().Which.Height.Should().Be(40);
        view.Schema["Label"].Type.Should().Be(NumberDataViewType.Int32);
        view.GetColumn<int>("Label").Should().Equal(scenes.Select(s => s.Label));
        using var cursor = view.GetRowCursor(view.Schema);
        var getter = cursor.GetGetter<MLImage>(view.Schema["Image"]);
        MLImage image = null!;
        cursor.MoveNext().Should().BeTrue();
        getter(ref image);
        image.Width.Should().Be(40);
        image.Pixels[0].Should().Be(scenes[0].Rgb[0]);
    }

    [Test]
    public void Reading_the_next_image_into_the_same_variable_releases_the_previous_one()
    {
        // As ML.NET's image loader does: the image's native pixels go when the reader moves on, not when a finaliser
        // gets round to them.
        var view = SpatialScenes.GenerateDataView(new MLContext(1), 2, new SpatialScenesOptions { ImageSize = 32 });
        using var cursor = view.GetRowCursor(view.Schema);
        var getter = cursor.GetGetter<MLImage>(view.Schema["Image"]);
        MLImage image = null!;
        cursor.MoveNext();
        getter(ref image);
        var first = image;
        cursor.MoveNext();
        getter(ref image);

        image.Width.Should().Be(32);
        first.Invoking(i => i.Pixels.ToArray()).Should().Throw<Exception>("the first image was disposed");
    }

    [Test]
    public void Invalid_options_are_rejected_naming_the_option()
    {
        FluentActions.Invoking(() => SpatialScenes.Generate(1, new SpatialScenesOptions { ClassCount = 12 }))
            .Should().Throw<ArgumentOutOfRangeException>().WithMessage("*ClassCount*");
    }

    [Test]
    public void Masks_mark_the_main_object_and_depth_puts_it_in_front_of_the_background()
    {
        foreach (var scene in SpatialScenes.Generate(50, new SpatialScenesOptions { DistractorCount = 1 }))
        {
            var main = scene.Objects[0];
            int cx = (int)(main.CenterX * scene.Width), cy = (int)(main.CenterY * scene.Height);
            var labelled = Enumerable.Range(0, scene.Mask.Length).Where(p => scene.Mask[p] == scene.Label + 1).ToList();
            labelled.Should().NotBeEmpty();
            labelled.Select(p => scene.Depth[p]).Should().OnlyContain(d => d < 5.1f, "the main object is nearest");
            Enumerable.Range(0, scene.Mask.Length).Where(p => scene.Mask[p] == 0)
                .Should().OnlyContain(p => scene.Depth[p] >= 10f, "background lies on the far plane");
        }
    }

    [Test]
    public void Every_style_shares_geometry_mask_and_depth_but_not_pixels()
    {
        var standard = SpatialScenes.Generate(5, new SpatialScenesOptions { Seed = 3 });
        foreach (var style in Enum.GetValues<SceneStyle>().Skip(1))
        {
            var styled = SpatialScenes.Generate(5, new SpatialScenesOptions { Seed = 3, Style = style });
            for (int i = 0; i < 5; i++)
            {
                styled[i].Objects.Should().Equal(standard[i].Objects);
                styled[i].Mask.Should().Equal(standard[i].Mask);
                styled[i].Depth.Should().Equal(standard[i].Depth);
                styled[i].Rgb.Should().NotEqual(standard[i].Rgb, $"{style} should look different");
                styled[i].Style.Should().Be(style);
            }
        }
    }

    [Test]
    public void Grayscale_style_has_equal_channels()
    {
        var scene = SpatialScenes.Generate(1, new SpatialScenesOptions { Style = SceneStyle.Grayscale })[0];

        Enumerable.Range(0, scene.Width * scene.Height).Should().OnlyContain(p => scene.Rgb[3 * p] == scene.Rgb[3 * p + 1] && scene.Rgb[3 * p + 1] == scene.Rgb[3 * p + 2]);
    }
}
