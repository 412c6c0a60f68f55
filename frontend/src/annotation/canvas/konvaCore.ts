// What `import Konva from "konva"` means in the built app (vite.config.ts aliases the bare name
// here): Konva's core and only the nodes the canvas uses, not the whole package with its filters
// and shapes we never draw (about a third smaller). TypeScript still reads the full package's
// types, so a node used in the code but missing here would fail at run time: add it below.
// The e2e tests draw and edit every shape type, which creates every node listed.
import Konva from "konva/lib/Core";
import "konva/lib/shapes/Circle";
import "konva/lib/shapes/Ellipse";
import "konva/lib/shapes/Image";
import "konva/lib/shapes/Line";
import "konva/lib/shapes/Rect";
import "konva/lib/shapes/Text";
import "konva/lib/shapes/Transformer";

export default Konva;
