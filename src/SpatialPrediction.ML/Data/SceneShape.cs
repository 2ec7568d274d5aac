namespace SpatialPrediction.ML.Data;

/// <summary>The object classes that <see cref="SpatialScenes"/> draws. The numeric value is the class label.</summary>
public enum SceneShape
{
    /// <summary>A filled disc.</summary>
    Circle = 0,
    /// <summary>A filled axis-aligned square.</summary>
    Square = 1,
    /// <summary>A filled triangle pointing up.</summary>
    Triangle = 2,
    /// <summary>A plus-shaped cross.</summary>
    Cross = 3,
    /// <summary>An annulus.</summary>
    Ring = 4,
    /// <summary>A five-petal star.</summary>
    Star = 5,
    /// <summary>A square turned 45 degrees.</summary>
    Diamond = 6,
    /// <summary>A crescent moon opening to the right.</summary>
    Crescent = 7,
}
