// Original file: ../../proto/lowart/v1/models.proto


export interface Model {
  'id'?: (string);
  'ownedBy'?: (string);
}

export interface Model__Output {
  'id': (string);
  'ownedBy': (string);
}
